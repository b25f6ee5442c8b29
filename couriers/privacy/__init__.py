"""Personal data: export and erasure of one person's data, audit-log wiring, masking of phone
and ID numbers, private file storage.
"""
