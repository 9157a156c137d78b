"""Templates of every config file Asterisk reads (``templates/``), rendered by
``telephony.render``; this package holds data only."""
