"""The frame every page stands in: the shell (navigation, the picker before the page), URL
state, widgets, the shared caches, the escaping of user text, the check of what a browser
sends, a page's controls, predict-then-reveal, the image input, the start-up's imports.

The frame imports no feature part (lessons, rooms, network, trained, analysis) with one
exception: the shell runs the lesson player (cnnviz.ui.lessons.player) before every page.
"""
