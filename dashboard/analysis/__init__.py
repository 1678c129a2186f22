"""Range analysis above rings: from where a target could be reached (launch areas), and by what."""
