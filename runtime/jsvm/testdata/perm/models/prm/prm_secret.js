require('./events')(prm_secret, 'prm_secret')
