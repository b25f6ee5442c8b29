"""Activities and training (四季关爱, 流动课堂, 云端课堂 …): sign-ups with a waiting list,
attendance by QR code, calendar files, their admin, pages and dashboard section.
"""
