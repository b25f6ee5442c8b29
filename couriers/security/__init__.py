"""Site-wide protection: public rate limits, staff idle sessions, password rules."""
