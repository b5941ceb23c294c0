"""What every feature shares: time, money, audit log, permissions, jobs, mail, PDFs, states."""
