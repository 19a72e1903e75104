"""Video data: decoding, clip sampling, transformations, data sets and the synthetic SynthMotion set."""
