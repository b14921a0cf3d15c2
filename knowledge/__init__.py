"""The knowledge base: articles from problem to solution, their lifecycle and suggestions."""
