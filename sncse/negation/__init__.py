"""negation"""
