"""Commands: validate everything, collect all errors, own the transaction."""
