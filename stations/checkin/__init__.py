"""小哥报到: the check-in flow (tokens → form → phone code → 欢迎回家), its views, urls, admin, demo
data and the check-in point list import.
"""
