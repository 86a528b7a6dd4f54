"""Event reviews by people who attended."""
