"""What the district shows of its work: service partnerships (快递进厂 / 快递进村) and role-model
stories (先进典型), their pages and admin.
"""
