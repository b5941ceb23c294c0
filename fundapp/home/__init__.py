"""The home page: on the top floor, it shows a little of every feature to each role."""
