"""The local host: everything ``make run`` starts on one machine, without Azure."""
