"""Training: the tf.data input pipeline and the fit loop."""
