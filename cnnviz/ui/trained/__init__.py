"""The Trained Networks page's parts: the pair, the input and each view, and the live part
redrawn on every stroke."""
