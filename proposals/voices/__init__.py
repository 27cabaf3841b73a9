"""Residents' voices (まちの声): local needs, problems and ideas, posted online or entered by the support desk."""
