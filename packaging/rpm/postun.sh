# %postun of the herald RPM, as %systemd_postun_with_restart: on upgrade
# restart a running daemon in place with the new binary (`herald restart`:
# the routers keep this host's routes throughout), or through systemd when
# it cannot be asked; a stopped one stays stopped. /var/lib/herald and the
# user are kept on erase.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -ge 1 ]; then
	if ! { herald status >/dev/null 2>&1 && herald restart >/dev/null 2>&1; }; then
		systemctl try-restart herald.service >/dev/null 2>&1 || :
	fi
fi
exit 0
