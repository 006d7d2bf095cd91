@echo off
rem LiveCam launcher for Windows: builds when needed, then runs the app. Usage: livecam run
setlocal
set ROOT=%~dp0
where dotnet >nul 2>nul || (echo livecam: the .NET 10 SDK is needed; install it from https://dot.net 1>&2 & exit /b 1)
dotnet build "%ROOT%src\LiveCam.App\LiveCam.App.csproj" -c Release -nologo -v q -clp:ErrorsOnly 1>&2 || (echo livecam: the build failed 1>&2 & exit /b 1)
dotnet "%ROOT%artifacts\bin\LiveCam.App\release\livecam.dll" %*
