"""mskd.deploy"""
