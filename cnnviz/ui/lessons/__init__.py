"""The lesson player over any page (?lesson=&step=) and its presenter mode (?present=1)."""
