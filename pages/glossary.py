"""Glossary: the words the pages' numbers use; the metrics' tooltips link to its anchors."""
from cnnviz import ui
from cnnviz.ui.lessons import welcome

ui.require_shell()
welcome.glossary_page()
