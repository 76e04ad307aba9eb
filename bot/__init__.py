"""hotro: a customer-support assistant for online shops in Vietnam."""
