-- A disabled account (set by an operator: docs/security.md, "Tokens") can neither sign in nor refresh, and its
-- access tokens stop working at once on the calls that check the account's standing (every role-gated call).
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
