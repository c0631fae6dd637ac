"""mskd.train"""
