"""Plain data in; figures, diagrams and code out."""
