module example.com/fixture-go-app

go 1.23
