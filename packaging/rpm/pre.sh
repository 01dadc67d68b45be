# %pre of the herald RPM: the system user and group the service runs as.
getent group herald >/dev/null || groupadd -r herald
getent passwd herald >/dev/null ||
	useradd -r -g herald -d /var/lib/herald -s /sbin/nologin \
		-c "herald BGP announcer" herald
exit 0
