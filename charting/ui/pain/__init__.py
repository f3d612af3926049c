"""Pain drawings on screen: the layer, the drawing canvas, its panel and patient mode."""
