"""Start here: a first visit's three ways in (learn alone, teach a class, explore)."""
from cnnviz import ui
from cnnviz.ui.lessons import welcome

ui.require_shell()
welcome.start_page()
