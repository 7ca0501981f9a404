# web/local.mk: the dashboard page's files (served by tradepulsed at /, installed under $(datadir)/tradepulse/web).
TP_WEB_FILES =
