"""How each family works, as pictures: the data behind the "How it works" section of the image tab.

- ``gan``: the discriminator's score of each generated digit, and walks through the generator's latent space.
- ``vae``: a 2-D map of the VAE's latent space (a PCA plane of real digits' codes), decoding any point of it,
  and morphs from one digit into another.
- ``frames``: animated GIFs and frame strips, from any list of pictures (the diffusion and PixelCNN processes).
- ``training``: each shipped model's loss log and the samples it saved while training.

Plain data in, PIL images and numbers out: no gradio here, and torch is imported only inside functions.
"""
