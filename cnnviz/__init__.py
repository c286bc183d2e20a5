"""cnnviz: see convolutional blocks, predicted by formula and confirmed by torch."""
