"""The Networks page's parts: the network builder (the network in the URL) and Scaling."""
