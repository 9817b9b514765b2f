"""LLM-AutoDP (arXiv 2601.20375): an agent searches data-processing strategies; see README.md."""
