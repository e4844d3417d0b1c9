"""bankreco: a serverless product recommender for retail banks."""
