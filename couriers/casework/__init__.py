"""三送三问 casework: visits and the needs they raise, followed to closure; the party pipeline
(stage history sets political status); their admin and demo data.
"""
