"""mskd.convert"""
