"""Coffee pairing: people who opt in meet someone from another team every one, two or four weeks."""
