"""Account directories: who an account is on a share network, and whom it follows."""
