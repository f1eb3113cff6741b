"""Training: GAN trainers, data pipelines and weight export.

Reuses the architectures of `engine.archs` and writes weights with `engine.weights`, so a
trained model is loaded by the engine exactly as it was built here.
"""
