"""Serving cnnviz: start-up warm-up and the lecture-hall setup (N app processes + nginx)."""
