"""The spreadsheet engine (reading files, cell values, the sheet importer, import jobs and their
background task) and its users: the survey, the enterprise/outlet list, the template, export
resources and formats, and the admin upload → preview → confirm mixin.
"""
