"""The Lambda layers' build: ``layers.build_layer``, also the script ``layers/Makefile`` runs."""
