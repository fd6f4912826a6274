# Windows: start captions at logon with Task Scheduler, restarted if the process ends with an error.
# Run once in PowerShell as the counter PC's user:  powershell -ExecutionPolicy Bypass -File deploy\install-windows-task.ps1
# Output (and a crash's traceback) goes to %LOCALAPPDATA%\captioner\run.log.
$project = Split-Path -Parent $PSScriptRoot
$captioner = Join-Path $project ".venv\Scripts\captioner.exe"
$logDir = Join-Path $env:LOCALAPPDATA "captioner"
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$command = "`"$captioner`" check --seconds 1 >> `"$logDir\run.log`" 2>&1 & `"$captioner`" run >> `"$logDir\run.log`" 2>&1"
$action = New-ScheduledTaskAction -Execute "cmd.exe" -Argument "/c $command"
$trigger = New-ScheduledTaskTrigger -AtLogOn -User $env:USERNAME
$settings = New-ScheduledTaskSettingsSet -RestartCount 5 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
Register-ScheduledTask -TaskName "CounterCaptions" -Action $action -Trigger $trigger -Settings $settings -Force
Write-Host "Registered: captions start at logon. Log: $logDir\run.log"
