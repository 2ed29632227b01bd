"""Article summarization microservice."""

__version__ = "0.1.0"
