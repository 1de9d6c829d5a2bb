from yizhan.manage import main

main()
