"""Lessons: guided paths through the app, for a student alone or a teacher in front of a class."""
from cnnviz.ui.lessons import catalogue

catalogue.catalogue_page()
