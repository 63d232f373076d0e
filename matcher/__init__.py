"""matcher: a PostgreSQL-backed mentor-mentee matching recommender."""

__version__ = "0.1.0"
