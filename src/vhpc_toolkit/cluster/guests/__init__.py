"""Inside the guests: customization outcomes and IPs, script steps recorded per VM and re-run until done, read-only checks."""
