"""visualize: computation graphs and training plots for tinygrad_edu (see issue 5)."""
