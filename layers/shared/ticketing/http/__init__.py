"""HTTP plumbing shared by every function: the resolver, the error contract, auth dependencies."""
