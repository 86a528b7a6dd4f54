"""Accounts and sessions: passwords, tokens, register/login/refresh/logout."""
