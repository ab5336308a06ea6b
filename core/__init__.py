"""The platform-neutral engine: arXiv ids, ranking, commands, digests."""
